import databento_dbn
import numpy as np

from schemas.dbn import MBP10_DTYPE, MBP10_NESTED_DTYPE, TRADE_DTYPE


def test_layouts_match_the_official_decoder() -> None:
    assert np.dtype(databento_dbn.MBP10Msg._dtypes) == MBP10_DTYPE
    assert np.dtype(databento_dbn.TradeMsg._dtypes) == TRADE_DTYPE


def test_nested_view_has_the_same_bytes() -> None:
    assert MBP10_NESTED_DTYPE.itemsize == MBP10_DTYPE.itemsize == 368
    flat_offset = MBP10_DTYPE.fields["bid_px_03"][1]
    nested_offset = MBP10_NESTED_DTYPE.fields["levels"][1] + 3 * 32
    assert flat_offset == nested_offset
