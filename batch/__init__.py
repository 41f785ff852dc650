"""asr-batch: register many werkgevers for the a.s.r. salariskoppeling from one Excel workbook."""

__version__ = "0.1.0"
