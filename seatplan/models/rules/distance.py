"""Distance: distance (cents) = w · Σ_{seats e} d(e) · x[e], with d the haversine distance from the
student's home to the school in hundredths of a km (radius 6371.0 km, rounded half up). Every placed
student counts, compact members included.
"""

from __future__ import annotations

from seatplan.models.config import Config
from seatplan.models.data import Instance, distance_hundredths
from seatplan.models.ir import Formulation, term_from_pairs
from seatplan.models.rules.placement import Seats


def build_distance(instance: Instance, config: Config, model: Formulation, seats: Seats) -> None:
    weight = config.objective.distance
    if weight == 0:
        return
    hundredths = distance_hundredths(instance, seats.student, seats.school)
    model.add_term(term_from_pairs("distance", seats.var, weight * hundredths))
