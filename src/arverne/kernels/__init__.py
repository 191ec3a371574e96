"""Array kernels (numba): street search and its heap, snapping, components, RAPTOR.

The floor below network/ and routing/: arrays and scalars in, arrays out; nothing here imports
from a floor above (feeds, network, routing, products).
"""
