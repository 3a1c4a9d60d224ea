"""The customer-facing pages of the customers app: profile, preferences, purchases, and
the request to delete the account. Every view gets its customer from
`customers.permissions.customer_portal` (one helper: the record of this login, else 404)."""
