"""The community: forums where customers help each other, and co-creation (an ideas
board and product reviews). A Django app of its own (label ``community``) inside the
relationships package: it may use customers and loyalty; the nightly run reads its
activity through ``selectors``; nothing in customers or loyalty imports it."""
