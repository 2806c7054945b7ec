"""Data -> weights -> simulation -> metrics and evidence; imports neither the store nor the workflows."""
