"""Call records: the domain (``records``) and its Graph operations (``operations``)."""
