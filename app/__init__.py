"""Backprop Playground: a visual backpropagation playground."""

__version__ = "0.1.0"
