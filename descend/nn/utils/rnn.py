"""Variable-length batches for the recurrent layers, as PyTorch's `torch.nn.utils.rnn`.

A `PackedSequence` holds a batch of sequences of different lengths without padding: `data` stacks,
time step by time step, the rows of the sequences still running at that step (longest first), and
`batch_sizes[t]` says how many there are. `RNN`, `LSTM` and `GRU` take one and step each sequence
only over its own length. Packing and unpacking are gathers (`index_select`), so gradients flow
back to the padded input.

Example:
    >>> import descend as torch
    >>> from descend.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
    >>> x = torch.randn(4, 2, 3)                          # (L, N, H_in), lengths 4 and 2
    >>> packed = pack_padded_sequence(x, [4, 2])
    >>> packed.batch_sizes
    tensor([2, 2, 1, 1])
    >>> output, h_n = torch.nn.GRU(3, 5)(packed)
    >>> padded, lengths = pad_packed_sequence(output)     # (4, 2, 5), tensor([4, 2])
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from ... import ops
from ...tensor import Tensor, from_numpy

__all__ = [
    "PackedSequence",
    "invert_permutation",
    "pack_padded_sequence",
    "pack_sequence",
    "pad_packed_sequence",
    "pad_sequence",
    "unpack_sequence",
    "unpad_sequence",
]


def _int64(values):
    return from_numpy(np.ascontiguousarray(values, dtype=np.int64))


def invert_permutation(permutation):
    """The permutation q with q[p[i]] = i (None stays None)."""
    if permutation is None:
        return None
    p = permutation._data
    inverse = np.empty_like(p)
    inverse[p] = np.arange(p.shape[0], dtype=p.dtype)
    return from_numpy(inverse)


_Fields = namedtuple("PackedSequence_", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])


class PackedSequence(_Fields):
    """A batch of variable-length sequences, packed: build it with `pack_padded_sequence` or `pack_sequence`.

    Fields:
        data: (sum of the lengths, *), the rows of every sequence running at step 0, then step 1, ...
        batch_sizes: int64 (max length,): how many sequences run at each step (non-increasing).
        sorted_indices: int64 (N,) or None: the batch order, longest first, that `data` follows
            (None when the input was already sorted, `enforce_sorted=True`).
        unsorted_indices: its inverse permutation, which restores the original order.
    """

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:  # PyTorch's legacy form PackedSequence((data, batch_sizes))
            data, batch_sizes = data
        if not isinstance(batch_sizes, Tensor):
            raise TypeError(
                "PackedSequence: batch_sizes should be a 1D CPU int64 tensor, "
                f"got {type(batch_sizes).__name__}"
            )
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        """`data.to(...)`; the index tensors stay as they are (self when nothing changes)."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        return type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def cpu(self, *args, **kwargs):
        return self.to("cpu")

    def cuda(self, *args, **kwargs):
        return type(self)(self.data.cuda(*args, **kwargs), *self[1:])

    def double(self):
        return self.to(dtype=np.float64)

    def float(self):
        return self.to(dtype=np.float32)

    def half(self):
        return self.to(dtype=np.float16)

    def long(self):
        return self.to(dtype=np.int64)

    def int(self):
        return self.to(dtype=np.int32)

    def short(self):
        return self.to(dtype=np.int16)

    def char(self):
        return self.to(dtype=np.int8)

    def byte(self):
        return self.to(dtype=np.uint8)

    @property
    def is_cuda(self):
        return False

    def is_pinned(self):
        return False


def _lengths(lengths):
    """`lengths` (a list or a tensor) as a 1-D int64 NumPy array, checked as PyTorch checks it."""
    if isinstance(lengths, Tensor):
        values = lengths._data
    else:
        values = np.asarray([v.item() if isinstance(v, Tensor) else v for v in lengths])
    values = np.asarray(values).astype(np.int64)
    if values.ndim != 1:
        raise RuntimeError(
            f"'lengths' argument should be a 1D CPU int64 tensor, but got {values.ndim}D cpu Long tensor"
        )
    return values


def _batch_sizes(lengths, steps):
    """How many of the (sorted) `lengths` exceed t, for t < steps."""
    return (lengths[None, :] > np.arange(steps)[:, None]).sum(1)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch (L, N, *) (or (N, L, *) with batch_first) of sequences of the given lengths.

    Args:
        input: the padded batch; row b holds sequence b in its first lengths[b] steps.
        lengths: a list or a 1-D CPU int64 tensor of N positive lengths.
        batch_first: input is (N, L, *).
        enforce_sorted: lengths must be in decreasing order (else RuntimeError); with False they are
            sorted here (stable, longest first) and `sorted_indices` records the order.

    Returns:
        A `PackedSequence`.

    Example:
        >>> x = descend.tensor([[1, 4], [2, 5], [3, 0]])   # (L=3, N=2): sequences [1, 2, 3] and [4, 5]
        >>> p = pack_padded_sequence(x, [3, 2])
        >>> p.data, p.batch_sizes
        (tensor([1, 4, 2, 5, 3]), tensor([2, 2, 1]))
    """
    lengths = _lengths(lengths)
    batch_dim = 0 if batch_first else 1
    sorted_indices = None
    if not enforce_sorted:
        order = np.argsort(-lengths, kind="stable")  # PyTorch's CPU sort is stable: ties keep their order
        lengths = lengths[order]
        sorted_indices = _int64(order)
        input = input.index_select(batch_dim, sorted_indices)
    if input.numel() == 0:
        raise RuntimeError("Cannot pack empty tensors.")
    steps_in, batch = (input.shape[1], input.shape[0]) if batch_first else (input.shape[0], input.shape[1])
    if lengths.shape[0] != batch:
        raise RuntimeError(
            f"Expected `len(lengths)` to be equal to batch_size, but got {lengths.shape[0]} "
            f"(batch_size={batch})"
        )
    if lengths[-1] <= 0:
        raise RuntimeError(
            "Length of all samples has to be greater than 0, but found an element in 'lengths' that is <= 0"
        )
    if np.any(lengths[1:] > lengths[:-1]):
        raise RuntimeError(
            "`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You can "
            "pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to sidestep this "
            "requirement if you do not need ONNX exportability."
        )
    # NOTE: PyTorch reads past the end of input here (garbage rows); descend refuses
    if lengths[0] > steps_in:
        raise RuntimeError(
            f"pack_padded_sequence: the longest length in 'lengths' ({int(lengths[0])}) exceeds the input's "
            f"sequence length ({steps_in})"
        )
    batch_sizes = _batch_sizes(lengths, int(lengths[0]))
    t, b = np.nonzero(np.arange(int(lengths[0]))[:, None] < lengths[None, :])  # time-major order
    rows = b * steps_in + t if batch_first else t * batch + b
    flat = input.reshape(steps_in * batch, *input.shape[2:])
    data = flat.index_select(0, _int64(rows))
    return PackedSequence(data, _int64(batch_sizes), sorted_indices, None)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Undo `pack_padded_sequence`: (padded (T, N, *) or (N, T, *), lengths), in the original batch order.

    Args:
        sequence: a `PackedSequence`.
        batch_first: return (N, T, *).
        padding_value: the value of the padded positions.
        total_length: pad to this many steps (at least the longest length, else ValueError), e.g. to
            undo the packing of a padded batch longer than its longest sequence.

    Returns:
        (padded, lengths): lengths is an int64 tensor of each sequence's length.

    Example:
        >>> p = pack_padded_sequence(descend.tensor([[1, 4], [2, 5], [3, 0]]), [3, 2])
        >>> pad_packed_sequence(p, batch_first=True, padding_value=-1)
        (tensor([[ 1,  2,  3],
                [ 4,  5, -1]]), tensor([3, 2]))
    """
    data, batch_sizes = sequence.data, sequence.batch_sizes._data.astype(np.int64)
    max_length = batch_sizes.shape[0]
    if total_length is not None:
        if total_length < max_length:
            raise ValueError(
                "Expected total_length to be at least the length of the longest sequence in input, but got "
                f"total_length={total_length} and max sequence length being {max_length}"
            )
    else:
        total_length = max_length
    batch = int(batch_sizes[0])
    lengths = _batch_sizes(batch_sizes, batch)  # sequence b runs while batch_sizes[t] > b
    offsets = np.zeros(total_length, dtype=np.int64)
    offsets[:max_length] = np.cumsum(batch_sizes) - batch_sizes
    # the row of `data` each padded position reads; padded positions read an extra row of padding_value
    rows = np.full((total_length, batch), data.shape[0], dtype=np.int64)
    mask = np.arange(total_length)[:, None] < lengths[None, :]
    rows[mask] = (offsets[:, None] + np.arange(batch)[None, :])[mask]
    if sequence.unsorted_indices is not None:
        order = sequence.unsorted_indices._data
        rows, lengths = rows[:, order], lengths[order]
    if batch_first:
        rows = rows.T
    pad = from_numpy(np.full((1, *data.shape[1:]), padding_value).astype(data.dtype))
    padded = ops.cat([data, pad], 0).index_select(0, _int64(rows.reshape(-1)))
    return padded.reshape(*rows.shape, *data.shape[1:]), _int64(lengths)


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack tensors of shapes (L_i, *) into (max L_i, N, *) (or (N, max L_i, *)), padding the short ones.

    Args:
        sequences: a list (or tuple) of tensors, or a tensor (its rows along dim 0).
        batch_first: return (N, L, *).
        padding_value: the value of the padded positions.
        padding_side: "right" (pad after each sequence) or "left" (before).

    Example:
        >>> pad_sequence([descend.tensor([1, 2, 3]), descend.tensor([4])], batch_first=True)
        tensor([[1, 2, 3],
                [4, 0, 0]])
    """
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    if isinstance(sequences, Tensor):
        sequences = sequences.unbind(0)
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    if any(s.dim() == 0 for s in sequences):
        raise RuntimeError("pad_sequence: every sequence needs a length dimension (dim 0), got a 0-d tensor")
    dtype = sequences[0].dtype
    trailing = tuple(sequences[0].shape[1:])
    for k, s in enumerate(sequences):
        if tuple(s.shape[1:]) != trailing:
            raise RuntimeError(
                f"pad_sequence: sequence {k} has trailing dimensions {tuple(s.shape[1:])}, expected "
                f"{trailing} (those of sequence 0)"
            )
    longest = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        s = s.to(dtype)
        short = longest - s.shape[0]
        if short:
            pad = from_numpy(np.full((short, *trailing), padding_value).astype(dtype))
            if s.dim() == 1 and s.shape[0] == 0:
                # NOTE: cat drops 1-D empty tensors from the graph; as (0, 1) it keeps its zero gradient
                s = ops.cat([s.unsqueeze(1), pad.unsqueeze(1)], 0).squeeze(1)
            else:
                s = ops.cat([s, pad] if padding_side == "right" else [pad, s], 0)
        padded.append(s)
    return ops.stack(padded, 0 if batch_first else 1)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """Split a padded batch (L, N, *) (or (N, L, *)) into the list of its N sequences of the given lengths.

    Unlike PyTorch's, this leaves `padded_sequences` as it is (PyTorch transposes it in place when
    batch_first=False).

    Example:
        >>> x = pad_sequence([descend.tensor([1, 2, 3]), descend.tensor([4])])
        >>> unpad_sequence(x, descend.tensor([3, 1]))
        [tensor([1, 2, 3]), tensor([4])]
    """
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    lengths = _lengths(lengths)
    if lengths.shape[0] != padded_sequences.shape[0]:
        raise ValueError(
            f"unpad_sequence: {lengths.shape[0]} lengths for a batch of {padded_sequences.shape[0]} sequences"
        )
    return [seq[: int(length)] for seq, length in zip(padded_sequences.unbind(0), lengths)]


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of tensors (L_i, *): `pack_padded_sequence(pad_sequence(sequences), lengths)`.

    Example:
        >>> p = pack_sequence([descend.tensor([1, 2, 3]), descend.tensor([4, 5]), descend.tensor([6])])
        >>> p.data, p.batch_sizes
        (tensor([1, 4, 6, 2, 5, 3]), tensor([3, 2, 1]))
    """
    lengths = [v.shape[0] for v in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """Undo `pack_sequence`: the list of the sequences, in their original order.

    Example:
        >>> p = pack_sequence([descend.tensor([1]), descend.tensor([2, 3])], enforce_sorted=False)
        >>> unpack_sequence(p)
        [tensor([1]), tensor([2, 3])]
    """
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
