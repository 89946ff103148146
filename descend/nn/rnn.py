"""Recurrent layers: `RNN`, `LSTM`, `GRU` and their one-step cells `RNNCell`, `LSTMCell`, `GRUCell`.

They are composites of `F.linear`, `sigmoid`, `tanh`/`relu`, `chunk`, `unbind`, `stack` and `cat`, so
autograd gives their gradients. Parameters are named, shaped, stacked (LSTM gates i, f, g, o; GRU
gates r, z, n), registered and initialised as PyTorch's are: every one drawn from
U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)) in registration order, so the same seed gives
PyTorch's weights. As PyTorch's CPU kernels do, a layer applies its input weights to the whole
sequence at once and then steps through time with the hidden weights. `RNN`, `LSTM` and `GRU` also
take a `PackedSequence` (`descend.nn.utils.rnn`): at step t only the first batch_sizes[t] sequences
(the ones still running) step, so each keeps the final state of its own length, as PyTorch's do.

Example:
    >>> import descend as torch
    >>> lstm = torch.nn.LSTM(10, 20, num_layers=2)
    >>> output, (h_n, c_n) = lstm(torch.randn(5, 3, 10))
    >>> output.shape, h_n.shape
    (descend.Size([5, 3, 20]), descend.Size([2, 3, 20]))
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from .. import functional as F
from .. import ops
from ..creation import zeros
from ..tensor import from_numpy
from . import init
from .layers import _check_device, _param_dtype
from .module import Module, Parameter
from .utils.rnn import PackedSequence

__all__ = ["GRU", "GRUCell", "LSTM", "LSTMCell", "RNN", "RNNCell"]


# --- one time step: `igates` is W_ih x + b_ih, already computed ---


def _rnn_step(igates, h, w_hh, b_hh, nonlinearity):
    pre = F.linear(h, w_hh, b_hh) + igates
    if nonlinearity == "tanh":
        return F.tanh(pre)
    if nonlinearity == "relu":
        return F.relu(pre)
    raise RuntimeError(f"Unknown nonlinearity: {nonlinearity}")


def _lstm_step(igates, state, w_hh, b_hh, w_hr=None):
    h, c = state
    i, f, g, o = ops.chunk(F.linear(h, w_hh, b_hh) + igates, 4, 1)
    c = F.sigmoid(f) * c + F.sigmoid(i) * F.tanh(g)
    h = F.sigmoid(o) * F.tanh(c)
    return (h if w_hr is None else F.linear(h, w_hr)), c  # proj_size > 0: h = W_hr h


def _gru_step(igates, h, w_hh, b_hh):
    i_r, i_z, i_n = ops.chunk(igates, 3, 1)
    h_r, h_z, h_n = ops.chunk(F.linear(h, w_hh, b_hh), 3, 1)
    r = F.sigmoid(h_r + i_r)
    z = F.sigmoid(h_z + i_z)
    n = F.tanh(i_n + h_n * r)
    return (h - n) * z + n  # (1 - z) n + z h, in PyTorch's order of operations


# --- cells ---


def _reset_uniform(module):
    """PyTorch's initialisation of recurrent layers and cells: every parameter, in registration
    order, from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
    stdv = 1.0 / math.sqrt(module.hidden_size) if module.hidden_size > 0 else 0
    for weight in module.parameters():
        init.uniform_(weight, -stdv, stdv)


class _RNNCellBase(Module):
    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        _check_device(device)
        dtype = _param_dtype(dtype, type(self).__name__)
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(from_numpy(np.empty((num_chunks * hidden_size, input_size), dtype=dtype)))
        self.weight_hh = Parameter(from_numpy(np.empty((num_chunks * hidden_size, hidden_size), dtype=dtype)))
        if bias:
            self.bias_ih = Parameter(from_numpy(np.empty(num_chunks * hidden_size, dtype=dtype)))
            self.bias_hh = Parameter(from_numpy(np.empty(num_chunks * hidden_size, dtype=dtype)))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Redraw every parameter from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), in registration order."""
        _reset_uniform(self)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _batched(self, input, hidden, labels):
        """(input, hidden states, is_batched), checked as PyTorch checks them; 1-D ones get a batch of 1.

        `hidden` is a tuple of states (one for RNN/GRU cells, two for LSTM cells) or None for zeros;
        `labels` name them in the dimension errors ("hidden", or "hx[0]" and "hx[1]").
        """
        name = type(self).__name__
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        for label, h in zip(labels, hidden or ()):
            if h.dim() not in (1, 2):
                raise ValueError(f"{name}: Expected {label} to be 1D or 2D, got {h.dim()}D instead")
        batched = input.dim() == 2
        if not batched:
            input = input.unsqueeze(0)
        if hidden is None:
            hidden = (zeros(input.shape[0], self.hidden_size, dtype=input.dtype),) * len(labels)
        elif not batched:
            hidden = tuple(h.unsqueeze(0) for h in hidden)
        else:
            for label, h in zip(labels, hidden):
                if h.dim() != 2:
                    raise RuntimeError(
                        f"{name}: a batched (2-D) input of shape {tuple(input.shape)} needs a 2-D {label}, "
                        f"got shape {tuple(h.shape)}"
                    )
        # PyTorch's check_rnn_cell_forward_input and check_rnn_cell_forward_hidden
        if input.shape[1] != self.input_size:
            raise RuntimeError(
                f"input has inconsistent input_size: got {input.shape[1]} expected {self.input_size}"
            )
        for k, h in enumerate(hidden):
            if input.shape[0] != h.shape[0]:
                raise RuntimeError(
                    f"Input batch size {input.shape[0]} doesn't match hidden{k} batch size {h.shape[0]}"
                )
            if h.shape[1] != self.hidden_size:
                raise RuntimeError(
                    f"hidden{k} has inconsistent hidden_size: got {h.shape[1]}, expected {self.hidden_size}"
                )
        return input, hidden, batched


class RNNCell(_RNNCellBase):
    """An Elman RNN cell: h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (relu with nonlinearity="relu").

    Args:
        input_size: features of the input x.
        hidden_size: features of the hidden state h.
        bias: learn the biases b_ih and b_hh.
        nonlinearity: "tanh" or "relu" (another name raises RuntimeError when called, as in PyTorch).
        device: only None or "cpu".
        dtype: parameter dtype (float32 by default).

    Shapes: input (N, H_in) or (H_in); hx (N, H_out) or (H_out), zeros when None; returns h' of hx's shape.

    Example:
        >>> cell = descend.nn.RNNCell(10, 20)
        >>> cell(descend.randn(3, 10)).shape
        descend.Size([3, 20])
    """

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        x, (h,), batched = self._batched(input, None if hx is None else (hx,), ("hidden",))
        igates = F.linear(x, self.weight_ih, self.bias_ih)
        out = _rnn_step(igates, h, self.weight_hh, self.bias_hh, self.nonlinearity)
        return out if batched else out.squeeze(0)


class LSTMCell(_RNNCellBase):
    """A long short-term memory cell; the gates i, f, g, o are stacked in that order in the weights.

    i = sigmoid(W_ii x + b_ii + W_hi h + b_hi), f = sigmoid(...), g = tanh(...), o = sigmoid(...);
    c' = f * c + i * g; h' = o * tanh(c').

    Args:
        input_size: features of the input x.
        hidden_size: features of h and c.
        bias: learn the biases b_ih and b_hh (each (4 * hidden_size)).
        device: only None or "cpu".
        dtype: parameter dtype (float32 by default).

    Shapes: input (N, H_in) or (H_in); hx a tuple (h, c) of (N, H) or (H), zeros when None;
    returns (h', c').

    Example:
        >>> cell = descend.nn.LSTMCell(10, 20)
        >>> h, c = cell(descend.randn(3, 10))
        >>> h.shape, c.shape
        (descend.Size([3, 20]), descend.Size([3, 20]))
    """

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        x, state, batched = self._batched(input, None if hx is None else tuple(hx), ("hx[0]", "hx[1]"))
        igates = F.linear(x, self.weight_ih, self.bias_ih)
        h, c = _lstm_step(igates, state, self.weight_hh, self.bias_hh)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(_RNNCellBase):
    """A gated recurrent unit cell; the gates r, z, n are stacked in that order in the weights.

    r = sigmoid(W_ir x + b_ir + W_hr h + b_hr), z = sigmoid(W_iz x + b_iz + W_hz h + b_hz),
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h' = (1 - z) * n + z * h.

    Args:
        input_size: features of the input x.
        hidden_size: features of the hidden state h.
        bias: learn the biases b_ih and b_hh (each (3 * hidden_size)).
        device: only None or "cpu".
        dtype: parameter dtype (float32 by default).

    Shapes: input (N, H_in) or (H_in); hx (N, H_out) or (H_out), zeros when None; returns h'.

    Example:
        >>> cell = descend.nn.GRUCell(10, 20)
        >>> cell(descend.randn(3, 10)).shape
        descend.Size([3, 20])
    """

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        x, (h,), batched = self._batched(input, None if hx is None else (hx,), ("hidden",))
        igates = F.linear(x, self.weight_ih, self.bias_ih)
        out = _gru_step(igates, h, self.weight_hh, self.bias_hh)
        return out if batched else out.squeeze(0)


# --- multi-layer recurrent layers ---


class _RNNBase(Module):
    """What RNN, LSTM and GRU share: PyTorch's RNNBase (arguments, parameters, checks, the time loop)."""

    _gates = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        _check_device(device)
        dtype = _param_dtype(dtype, type(self).__name__)
        if not isinstance(dropout, numbers.Number) or isinstance(dropout, bool) or not 0 <= dropout <= 1:
            raise ValueError(
                "dropout should be a number in range [0, 1] representing the probability of an element "
                "being zeroed"
            )
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                "dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                f"expects num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}",
                stacklevel=3,
            )
        if not isinstance(bias, bool):
            raise TypeError(f"bias should be of type bool, got: {type(bias).__name__}")
        if not isinstance(batch_first, bool):
            raise TypeError(f"batch_first should be of type bool, got: {type(batch_first).__name__}")
        if not isinstance(input_size, int):
            raise TypeError(f"input_size should be of type int, got: {type(input_size).__name__}")
        if input_size <= 0:
            raise ValueError("input_size must be greater than zero")
        if not isinstance(hidden_size, int):
            raise TypeError(f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        num_directions = 2 if bidirectional else 1
        gate_size = self._gates[mode] * hidden_size
        real_hidden_size = proj_size if proj_size > 0 else hidden_size  # the size of h (c keeps hidden_size)
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            for direction in range(num_directions):
                layer_input_size = input_size if layer == 0 else real_hidden_size * num_directions
                shapes = [(gate_size, layer_input_size), (gate_size, real_hidden_size)]
                names = ["weight_ih_l{}{}", "weight_hh_l{}{}"]
                if bias:
                    shapes += [(gate_size,), (gate_size,)]
                    names += ["bias_ih_l{}{}", "bias_hh_l{}{}"]
                if proj_size > 0:
                    shapes.append((proj_size, hidden_size))
                    names.append("weight_hr_l{}{}")
                suffix = "_reverse" if direction == 1 else ""
                names = [n.format(layer, suffix) for n in names]
                for name, shape in zip(names, shapes):
                    setattr(self, name, Parameter(from_numpy(np.empty(shape, dtype=dtype))))
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self):
        """Redraw every parameter from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), in registration order."""
        _reset_uniform(self)

    def flatten_parameters(self):
        """A no-op, as in PyTorch on the CPU (it packs the weights for cuDNN)."""

    @property
    def _flat_weights(self):
        return [getattr(self, name, None) for name in self._flat_weights_names]

    @property
    def all_weights(self):
        """The parameters per layer and direction: [[weight_ih_l0, weight_hh_l0, ...], ...]."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    # The three subclasses differ in their state: one tensor h, or the pair (h, c) for LSTM.
    _label = "RNN"

    def _hidden_dims_error(self, hx, batched):
        want = 3 if batched else 2
        if hx.dim() != want:
            kind = "batched 3-D" if batched else "unbatched 2-D"
            return f"For {kind} input, hx should also be {want}-D but got {hx.dim()}-D tensor"
        return None

    def _state_sizes(self):
        """The feature size of each state: (hidden_size,); LSTM's (proj_size or hidden_size, hidden_size)."""
        return (self.hidden_size,)

    def _initial(self, hx, batch, dtype):
        if hx is None:
            layers = self.num_layers * (2 if self.bidirectional else 1)
            return tuple(zeros(layers, batch, size, dtype=dtype) for size in self._state_sizes())
        return self._states(hx)

    def _forward_packed(self, packed, hx):
        data, batch_sizes, sorted_indices, unsorted_indices = packed
        sizes = [int(n) for n in batch_sizes._data]
        states = self._initial(hx, sizes[0], data.dtype)
        self._check_forward_args(data, states, sizes[0], packed=True)
        if hx is not None and sorted_indices is not None:  # PyTorch's permute_hidden: into the packed order
            states = tuple(s.index_select(1, sorted_indices) for s in states)
        output, finals = self._layers(data, states, sizes)
        if unsorted_indices is not None:  # back to the caller's batch order
            finals = tuple(s.index_select(1, unsorted_indices) for s in finals)
        output = PackedSequence(output, batch_sizes, sorted_indices, unsorted_indices)
        return output, (finals if self._n_states == 2 else finals[0])

    def forward(self, input, hx=None):
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx)
        if input.dim() not in (2, 3):
            tail = " tensor" if self._label == "RNN" else ""
            raise ValueError(
                f"{self._label}: Expected input to be 2D or 3D, got {input.dim()}D{tail} instead"
            )
        batched = input.dim() == 3
        batch_dim = 0 if self.batch_first else 1
        if not batched:
            input = input.unsqueeze(batch_dim)
        states = self._initial(hx, input.shape[batch_dim], input.dtype)
        if hx is not None:
            message = self._hidden_dims_error(hx, batched)
            if message:
                raise RuntimeError(message)
            if not batched:
                states = tuple(s.unsqueeze(1) for s in states)
        self._check_forward_args(input, states, input.shape[batch_dim])
        x = input.transpose(0, 1) if self.batch_first else input
        if x.shape[0] == 0:
            raise RuntimeError(f"Expected sequence length to be larger than 0 in {self._label}")
        output, finals = self._layers(x, states)
        if self.batch_first:
            output = output.transpose(0, 1)
        if not batched:
            output = output.squeeze(batch_dim)
            finals = tuple(s.squeeze(1) for s in finals)
        return output, (finals if self._n_states == 2 else finals[0])

    _n_states = 1

    def _states(self, hx):
        return (hx,)

    def _check_forward_args(self, input, states, mini_batch, packed=False):
        if packed and input.dim() != 2:
            raise RuntimeError(f"input must have 2 dimensions, got {input.dim()}")
        weight_dtype = self.weight_ih_l0.dtype
        if input.dtype != weight_dtype:
            raise ValueError(
                f"RNN input dtype ({input.dtype}) does not match weight dtype ({weight_dtype}). "
                f"Convert input: input.to(descend.{weight_dtype}), or convert model: "
                f"model.to(descend.{input.dtype})"
            )
        if input.shape[-1] != self.input_size:
            raise RuntimeError(
                f"input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                f"got {input.shape[-1]}"
            )
        layers = self.num_layers * (2 if self.bidirectional else 1)
        for k, (state, size) in enumerate(zip(states, self._state_sizes())):
            expected = (layers, mini_batch, size)
            if tuple(state.shape) != expected:
                what = f"hidden[{k}]" if self._n_states == 2 else "hidden"
                raise RuntimeError(f"Expected {what} size {expected}, got {list(state.shape)}")

    def _step(self, igates, state, w_hh, b_hh, *proj):
        raise NotImplementedError

    def _layers(self, x, states, batch_sizes=None):
        """Run every layer and direction: (output, final states).

        x is time-major (L, N, H_in), or with `batch_sizes` (a list) a PackedSequence's data
        (sum(batch_sizes), H_in) whose step t is its next batch_sizes[t] rows.
        """
        num_directions = 2 if self.bidirectional else 1
        initial = list(zip(*(s.unbind(0) for s in states)))  # per layer and direction: a tuple of states
        finals = []
        layer_input = x
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(num_directions):
                k = layer * num_directions + direction
                p = {name.rsplit("_l", 1)[0]: getattr(self, name) for name in self._all_weights[k]}
                proj = (p["weight_hr"],) if "weight_hr" in p else ()
                igates = F.linear(layer_input, p["weight_ih"], p.get("bias_ih"))
                igates = igates.unbind(0) if batch_sizes is None else ops.split(igates, batch_sizes, 0)
                run = self._run_reversed if direction == 1 else self._run_forward
                hs, state = run(igates, initial[k], (p["weight_hh"], p.get("bias_hh"), *proj))
                outputs.append(ops.stack(hs, 0) if batch_sizes is None else ops.cat(hs, 0))
                finals.append(state)
            layer_input = outputs[0] if num_directions == 1 else ops.cat(outputs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, training=True)
        return layer_input, tuple(ops.stack(list(s), 0) for s in zip(*finals))

    def _run_forward(self, igates, state, params):
        """Step forwards in time; the batch may shrink (packed): rows that stop keep their last state."""
        hs, done = [], []
        for ig in igates:
            n = ig.shape[0]
            if n < state[0].shape[0]:  # the last rows' sequences have ended: their final state is this one
                done.append(tuple(s[n:] for s in state))
                state = tuple(s[:n] for s in state)
            state = self._step(ig, state, *params)
            hs.append(state[0])
        if done:
            done.append(state)
            state = tuple(ops.cat(list(rows)[::-1], 0) for rows in zip(*done))
        return hs, state

    def _run_reversed(self, igates, initial, params):
        """Step backwards in time; the batch may grow (packed): a row starts from its initial state."""
        hs = []
        state = initial
        if igates[-1].shape[0] < initial[0].shape[0]:
            state = tuple(s[: igates[-1].shape[0]] for s in initial)
        for ig in igates[::-1]:
            n, m = ig.shape[0], state[0].shape[0]
            if n > m:  # rows m..n-1 start here, at their last step
                state = tuple(ops.cat([s, s0[m:n]], 0) for s, s0 in zip(state, initial))
            state = self._step(ig, state, *params)
            hs.append(state[0])
        return hs[::-1], state


class RNN(_RNNBase):
    """A multi-layer Elman RNN: h_t = tanh(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh) (or relu), per layer.

    Args:
        input_size: features of the input x.
        hidden_size: features of the hidden state h.
        num_layers: stacked recurrent layers; layer k > 0 reads layer k - 1's outputs.
        nonlinearity: "tanh" or "relu".
        bias: learn the biases b_ih and b_hh.
        batch_first: input and output are (N, L, H) rather than (L, N, H) (h_n is not affected).
        dropout: dropout on the outputs of every layer but the last, in training mode.
        bidirectional: also run each layer backwards in time; outputs concatenate both directions.
        device: only None or "cpu".
        dtype: parameter dtype (float32 by default).

    Shapes: input (L, N, H_in), (N, L, H_in) with batch_first, or unbatched (L, H_in); hx
    (D * num_layers, N, H_out) or (D * num_layers, H_out), zeros when None (D = 2 if bidirectional
    else 1). Returns (output (L, N, D * H_out), h_n (D * num_layers, N, H_out)). The input may be a
    `PackedSequence` (`nn.utils.rnn.pack_padded_sequence`): the output is then packed alike and h_n holds
    each sequence's state after its own last step, in the caller's batch order.

    Example:
        >>> rnn = descend.nn.RNN(10, 20, 2)
        >>> output, h_n = rnn(descend.randn(5, 3, 10), descend.randn(2, 3, 20))
        >>> output.shape, h_n.shape
        (descend.Size([5, 3, 20]), descend.Size([2, 3, 20]))
    """

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:  # PyTorch's positional order: input_size, hidden_size, num_layers, nonlinearity
            self.__dict__["nonlinearity"] = args[3]
            args = args[:3] + args[4:]
        else:
            self.__dict__["nonlinearity"] = kwargs.pop("nonlinearity", "tanh")
        if self.nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif self.nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__(mode, *args, **kwargs)

    def _step(self, igates, state, w_hh, b_hh, *proj):
        return (_rnn_step(igates, state[0], w_hh, b_hh, self.nonlinearity),)


class LSTM(_RNNBase):
    """A multi-layer long short-term memory RNN; the gates i, f, g, o are stacked in that order.

    Per layer and time step: i, f, o = sigmoid(W_i* x_t + b_i* + W_h* h_(t-1) + b_h*),
    g = tanh(...), c_t = f * c_(t-1) + i * g, h_t = o * tanh(c_t).

    Args:
        input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, device, dtype:
            as for `RNN`.
        proj_size: if > 0 (and < hidden_size), an LSTM with projections: each layer's h_t is
            W_hr (o * tanh(c_t)) with W_hr = weight_hr_l{k} (proj_size, hidden_size), so h and the
            outputs have proj_size features while c keeps hidden_size.

    Shapes: as for `RNN`, with hx a tuple (h_0, c_0): h_0 (D * num_layers, N, H_out), c_0
    (D * num_layers, N, hidden_size), H_out = proj_size or hidden_size; returns
    (output (L, N, D * H_out), (h_n, c_n)). A `PackedSequence` input gives a `PackedSequence` output.

    Example:
        >>> lstm = descend.nn.LSTM(10, 20, 2)
        >>> output, (h_n, c_n) = lstm(descend.randn(5, 3, 10))
        >>> c_n.shape
        descend.Size([2, 3, 20])
    """

    _label = "LSTM"
    _n_states = 2

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)

    def _states(self, hx):
        if not isinstance(hx, (tuple, list)) or len(hx) != 2:
            raise TypeError(f"LSTM: hx must be a tuple (h_0, c_0) of two tensors, got {type(hx).__name__}")
        return tuple(hx)

    def _hidden_dims_error(self, hx, batched):
        want = 3 if batched else 2
        if hx[0].dim() != want or hx[1].dim() != want:
            kind = "batched 3-D" if batched else "unbatched 2-D"
            return (f"For {kind} input, hx and cx should also be {want}-D but got "
                    f"({hx[0].dim()}-D, {hx[1].dim()}-D) tensors")
        return None

    def _state_sizes(self):
        return (self.proj_size or self.hidden_size, self.hidden_size)

    def _step(self, igates, state, w_hh, b_hh, *proj):
        return _lstm_step(igates, state, w_hh, b_hh, *proj)


class GRU(_RNNBase):
    """A multi-layer gated recurrent unit RNN; the gates r, z, n are stacked in that order.

    Per layer and time step: r = sigmoid(W_ir x_t + b_ir + W_hr h_(t-1) + b_hr), z likewise,
    n = tanh(W_in x_t + b_in + r * (W_hn h_(t-1) + b_hn)), h_t = (1 - z) * n + z * h_(t-1).

    Args:
        input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, device, dtype:
            as for `RNN`.

    Shapes: as for `RNN`; returns (output, h_n).

    Example:
        >>> gru = descend.nn.GRU(10, 20, 2)
        >>> output, h_n = gru(descend.randn(5, 3, 10))
        >>> output.shape
        descend.Size([5, 3, 20])
    """

    _label = "GRU"

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)

    def _step(self, igates, state, w_hh, b_hh, *proj):
        return (_gru_step(igates, state[0], w_hh, b_hh),)
