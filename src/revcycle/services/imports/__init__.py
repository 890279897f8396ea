"""Imports: the weekly SimplePractice upload, AR portfolios and other CSVs, in two phases."""
