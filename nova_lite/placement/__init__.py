"""The Placement API (``nova-lite-placement-api``): Placement's REST shapes over the
resource providers, inventories, traits, aggregates and allocations the conductor keeps
in the API database. It holds no database credentials: every read and write is an RPC
call to the conductor (namespace ``placement``)."""
