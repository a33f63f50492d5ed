"""Load generator and benchmark runner for livepolls (and the node peer), see bench/README.md."""
