"""Online meetings: the domain (``meetings``) and its Graph operations (``operations``)."""
