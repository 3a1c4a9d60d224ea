"""CSV import of customers and purchases: parse, validate every row, then write in one go.

The flow (docs/import.md tells users the same):
1. `import_job_create` checks the file as a whole (size, UTF-8, header, at least one row)
   and stores it as an ImportJob; a bad file is one clear error and nothing is written.
2. `import_job_run` (called by the Celery task or a management command) validates every
   row with a constant number of queries (everything the rows refer to is preloaded),
   moving `processed_rows` as it goes, outside any transaction, so the progress bar moves.
3. The write pass happens in ONE transaction that also sets the job's final status, so a
   crash or a second delivery of the task can never import a file twice or half of it.

Row rules are the services' own (`customers.services` validation helpers); this package
adds only what a CSV needs: parsing text into values and resolving names to rows.

- `files`: columns, templates, decoding and reading the rows of a file;
- `values`: a cell's text made into a value, and batching;
- `customer_rows`, `purchase_rows`: each kind's importer (preload, clean, accept, write);
- `jobs`: creating and running a job.
"""

from .customer_rows import CustomerImporter
from .files import (
    COLUMNS,
    CUSTOMER_COLUMNS,
    PURCHASE_COLUMNS,
    ImportFileError,
    RowError,
    read_upload,
    template_csv,
)
from .jobs import (
    IMPORTERS,
    ProgressCallback,
    bad_row_count,
    import_admins,
    import_job_confirm,
    import_job_create,
    import_job_run,
)
from .purchase_rows import PurchaseImporter

__all__ = [
    "COLUMNS",
    "CUSTOMER_COLUMNS",
    "IMPORTERS",
    "PURCHASE_COLUMNS",
    "CustomerImporter",
    "ImportFileError",
    "ProgressCallback",
    "PurchaseImporter",
    "RowError",
    "bad_row_count",
    "import_admins",
    "import_job_confirm",
    "import_job_create",
    "import_job_run",
    "read_upload",
    "template_csv",
]
