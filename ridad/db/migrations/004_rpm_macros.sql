-- The modulemd's buildopts.rpms.macros, stored at submission so that the
-- scheduler builds module-build-macros without parsing the modulemd again.
-- NULL: the module defines none (or it was submitted before this column).
ALTER TABLE module_builds ADD COLUMN rpm_macros TEXT;
