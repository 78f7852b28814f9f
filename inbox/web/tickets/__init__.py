"""The tickets area: the inbox and its lists, the ticket page and everything done on it
(replies, notes, properties, macros, merges, calls, the customer's account, follow-ups, SLA
clocks), an agent's notifications, and the guard that hides tickets outside an agent's scope."""
