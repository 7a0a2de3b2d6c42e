"""The public record: Belenios elections, ballots, archives, tallies, results, rules, verify."""
