"""Tours (home care, deliveries, farm machines) through PyVRP and OR-Tools, and the on-demand
shuttle service with its promise-keeping insertion kernels.
"""
