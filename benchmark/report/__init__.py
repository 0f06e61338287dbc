"""Reports built from result CSVs: ranked leaderboards (and, later, plots)."""
