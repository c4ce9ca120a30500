"""Pure data -> figure functions, one module per page family."""
