"""Sites, events, visitors, sessions and companies seen on customers' websites."""
