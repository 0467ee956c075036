"""A worker process of the classroom stage (solver/classrooms.py, _solve_all): cohorts in on
standard input, their solutions out on standard output, both pickled."""

from seatplan.solver.classrooms import _worker

if __name__ == "__main__":
    _worker()
