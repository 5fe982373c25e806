"""gantry-transcode: change the transfer syntax of DICOM files through Gantry's ranked codecs.

The library call is :func:`gantry_transcode.transcode.transcode_file` (kept out of this module so
that plugin discovery imports nothing heavy).
"""
