"""Example Stock-RNN plugin: ``gru-online``."""
