"""Honest evaluation: label every level test in the data and score the calls made before it."""
