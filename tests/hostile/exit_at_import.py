"""Hostile: sys.exit(0) while loading. Expected: a load error naming sys.exit, score 0."""
import sys

sys.exit(0)
