"""What the problem is: configuration, data, the neutral integer program. No solver imports here.

Every rule family registers itself, and the config section it owns, when its module is imported
(and the classroom stage its `sections:` block): the package imports them all, so that no config
is ever read without them.
"""

from seatplan.models import classrooms, rules

__all__ = ["classrooms", "rules"]
