"""gantry-part10: read DICOM Part 10 files, raw datasets and deflated files into pydicom Datasets."""
