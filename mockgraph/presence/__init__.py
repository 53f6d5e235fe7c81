"""Users' presence: the domain (``presences``) and its Graph operations (``operations``)."""
