-- The console's language of a person: `kk`, `ru` or `en`; NULL is the login
-- page's choice, else `console.language`. Owned by `persons`.
ALTER TABLE persons ADD COLUMN language TEXT CHECK (language IN ('kk', 'ru', 'en'));
