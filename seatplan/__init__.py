"""seatplan: place students in schools from ranked choices, as one integer program."""
