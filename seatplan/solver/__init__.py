"""How the problem is solved and shown: backends, the solve, the run folder, the command line."""
