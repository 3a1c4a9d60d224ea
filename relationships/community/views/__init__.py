"""Community pages: forums and ideas for customers (in the portal's look) and for staff."""
