-- The open cases in the back office by due date: 电子监察's lists (about to be late, late) and
-- the overdue counts read only these rows, however many closed cases a center has stored.
create index cases_open_due on cases (due_on, center_id)
    where state in ('accepted', 'suspended', 'signing');
