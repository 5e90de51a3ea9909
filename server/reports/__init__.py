"""After the visit: the customer's service report (R18), the centre's KPIs and the money close (R17)."""
