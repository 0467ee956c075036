"""seatplan's benchmark: generated instances at fixed seeds, every method on each in one run."""
