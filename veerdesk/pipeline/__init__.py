"""Digitize pipeline: image + layout -> segmentation -> traces -> LAS, used by the CLI and the app."""
