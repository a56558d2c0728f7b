"""Similarity of submissions: which students share code beyond the starter code."""
