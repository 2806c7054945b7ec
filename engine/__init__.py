"""Engine: timing convention, driving strategies, simulation, metrics, audit, store, CLI.

Submodules are imported on demand (vectorbt alone takes seconds to import), so this
package imports nothing eagerly.
"""
