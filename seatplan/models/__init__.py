"""What the problem is: configuration, data, the neutral integer program. No solver imports here."""
