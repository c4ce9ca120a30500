"""wormlab's web app (Dash): Explore, Simulate, Circuit and Train pages."""
