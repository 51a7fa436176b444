"""Every write and every hand-over of the FHIR app, each audited in its transaction: exporting a
patient or the clinic (:mod:`.exporting`), the asynchronous ``$export`` jobs the worker builds
and their downloads (:mod:`.jobs`), and the import of outside records (:mod:`.importing`, which
runs the stages of :mod:`.import_stages` and reports with :mod:`.import_report`)."""
