"""Example vendor codec plugin for Gantry."""
