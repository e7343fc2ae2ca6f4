"""Work a server leaves for later, finished before the next measurement: each system is
measured with the machine to itself. Postino indexes the text of new messages in the
background once no message has been saved for store.text_index_quiet_ms; a run that
delivered 20 MB of text left a second or more of indexing that ran into the reference
system's next run, on the same two cores. (Postfix and Dovecot leave nothing: a message
counts as delivered once Dovecot's LMTP has written it and its index.)"""

import sqlite3
import time


def wait_for_text_index(data_dir, timeout=600):
    """Waits until every message body in Postino's store under data_dir is indexed;
    seconds waited."""
    began = time.monotonic()
    db = sqlite3.connect(f"file:{data_dir}/store.db?mode=ro", uri=True, timeout=30)
    try:
        while db.execute("SELECT count(*) FROM blobs WHERE text_rowid IS NULL").fetchone()[0]:
            if time.monotonic() - began > timeout:
                raise RuntimeError(f"Postino's text index did not catch up in {timeout} s")
            time.sleep(0.05)
    finally:
        db.close()
    return time.monotonic() - began
