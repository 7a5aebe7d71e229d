"""Models of the campaigns app, one module per topic, re-exported here."""
