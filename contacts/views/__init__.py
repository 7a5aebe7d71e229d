"""Browser views of the contacts app, one module per topic."""
