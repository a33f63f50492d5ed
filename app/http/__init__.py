"""HTTP blueprints; each module owns one group of routes."""
