"""Which categories customers buy together, recomputed every night from all purchases into
two small tables (CategoryReach, CategoryAffinity) the portal reads in milliseconds.

Set-based SQL that runs on PostgreSQL and SQLite alike: the distinct (customer, category)
pairs once into a temporary table, then a count per category and a self-join per customer
for the pairs. On the bench book (1M customers, 10M purchases) they take 9 to 36 s
depending on the machine's load (docs/loyalty.md, "Speed")."""

from __future__ import annotations

import datetime as dt

from django.db import connection

from customers.models import Purchase

from ..models import CategoryAffinity, CategoryReach

# A pair (or a category) bought by fewer customers is not shown: too few to mean anything,
# and "customers who buy X also buy Y" must not tell one customer what another bought.
MIN_CUSTOMERS = 5
# Per category, the strongest pairs kept: the table stays small however long the catalogue.
TOP_PER_CATEGORY = 20


def category_affinity_refresh(*, run_date: dt.date, min_customers: int = MIN_CUSTOMERS) -> int:
    """Replace both tables with today's figures; returns the number of pairs kept. Running
    it twice for a date gives the same tables."""
    p = Purchase._meta.db_table
    reach = CategoryReach._meta.db_table
    pairs = CategoryAffinity._meta.db_table
    with connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS loyalty_tmp_bought")
        cur.execute(
            "CREATE TEMPORARY TABLE loyalty_tmp_bought AS "  # noqa: S608
            f"SELECT DISTINCT customer_id, LOWER(TRIM(category)) AS c FROM {p} "
            "WHERE TRIM(category) <> ''"
        )
        cur.execute("SELECT COUNT(DISTINCT customer_id) FROM loyalty_tmp_bought")
        buyers = cur.fetchone()[0]
        cur.execute(f"DELETE FROM {pairs}")  # noqa: S608
        cur.execute(f"DELETE FROM {reach}")  # noqa: S608
        cur.execute(
            f"INSERT INTO {reach} (category, customers, computed_on) "  # noqa: S608
            "SELECT c, COUNT(*), %s FROM loyalty_tmp_bought GROUP BY c HAVING COUNT(*) >= %s",
            [run_date, min_customers],
        )
        # lift = P(both) / (P(a) P(b)) = both * buyers / (customers of a * customers of b)
        cur.execute(
            f"INSERT INTO {pairs} (category, also_bought, customers_both, lift, computed_on) "  # noqa: S608
            "SELECT a, b, n, lift, %s FROM ("
            "  SELECT s.a, s.b, s.n, s.n * 1.0 * %s / (ra.customers * rb.customers) AS lift,"
            "    ROW_NUMBER() OVER (PARTITION BY s.a ORDER BY"
            "      s.n * 1.0 / (ra.customers * rb.customers) DESC, s.n DESC, s.b) AS rank"
            "  FROM (SELECT x.c AS a, y.c AS b, COUNT(*) AS n FROM loyalty_tmp_bought x"
            "        JOIN loyalty_tmp_bought y ON x.customer_id = y.customer_id AND x.c <> y.c"
            "        GROUP BY x.c, y.c HAVING COUNT(*) >= %s) s"
            f"  JOIN {reach} ra ON ra.category = s.a JOIN {reach} rb ON rb.category = s.b"
            ") ranked WHERE rank <= %s",
            [run_date, buyers, min_customers, TOP_PER_CATEGORY],
        )
        kept = cur.rowcount
        cur.execute("DROP TABLE loyalty_tmp_bought")
    return kept
