import numpy as np
import pytest

from relationships.analytics.cohorts import cohort_matrix


def test_cohort_matrix_by_hand():
    # Months 0..3. Customers and their acquisition month:
    #   0 -> 0, 1 -> 0, 2 -> 1, 3 -> 2, 4 -> -1 (acquired before the window: ignored)
    customer_cohort = np.array([0, 0, 1, 2, -1])
    # Purchases (customer, month, revenue):
    activity = [
        (0, 0, 10.0),  # cohort 0, k=0
        (0, 0, 5.0),  # same customer, same month: one active customer, revenue 15
        (1, 0, 20.0),  # cohort 0, k=0
        (0, 1, 7.0),  # cohort 0, k=1
        (1, 3, 8.0),  # cohort 0, k=3
        (2, 1, 30.0),  # cohort 1, k=0
        (2, 3, 12.0),  # cohort 1, k=2
        (2, 0, 99.0),  # before customer 2 was acquired: ignored
        (3, 2, 4.0),  # cohort 2, k=0
        (3, 3, 6.0),  # cohort 2, k=1
        (4, 2, 50.0),  # customer outside the window: ignored
    ]
    customers, months, revenue = (np.array(col) for col in zip(*activity, strict=True))

    counts, revenue_matrix, sizes = cohort_matrix(
        customer_cohort=customer_cohort,
        activity_customer=customers,
        activity_month=months,
        activity_revenue=revenue,
        n_months=4,
    )

    assert sizes.tolist() == [2, 1, 1, 0]
    assert counts.tolist() == [
        [2, 1, 0, 1],  # cohort 0: both in month 0, customer 0 in month 1, customer 1 in month 3
        [1, 0, 1, 0],  # cohort 1: customer 2 in months 1 and 3
        [1, 1, 0, 0],  # cohort 2: customer 3 in months 2 and 3
        [0, 0, 0, 0],
    ]
    assert revenue_matrix.tolist() == [
        [35.0, 7.0, 0.0, 8.0],  # 10 + 5 + 20 = 35
        [30.0, 0.0, 12.0, 0.0],
        [4.0, 6.0, 0.0, 0.0],
        [0.0, 0.0, 0.0, 0.0],
    ]


def test_cohort_matrix_of_no_activity():
    counts, revenue, sizes = cohort_matrix(
        customer_cohort=np.array([0, 1]),
        activity_customer=np.array([], dtype=int),
        activity_month=np.array([], dtype=int),
        activity_revenue=np.array([]),
        n_months=2,
    )

    assert counts.tolist() == [[0, 0], [0, 0]]
    assert revenue.tolist() == [[0.0, 0.0], [0.0, 0.0]]
    assert sizes.tolist() == [1, 1]


def test_cohort_matrix_rejects_an_unknown_customer_index():
    with pytest.raises(ValueError, match="outside the customers"):
        cohort_matrix(
            customer_cohort=np.array([0]),
            activity_customer=np.array([1]),
            activity_month=np.array([0]),
            activity_revenue=np.array([1.0]),
            n_months=1,
        )
