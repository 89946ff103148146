"""A hand-written batch-norm MLP character model, written as PyTorch code (only the import differs).

In the style of the makemore lectures: an embedding table C[X] lookup, a linear layer, batch norm by
hand with bngain/bnbias, running mean and std kept under no_grad, tanh, cross-entropy, and a manual
SGD update loop over `p.data`.
"""

import numpy as np

import descend as torch
import descend.nn.functional as F

WORDS = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "amelia", "harper", "evelyn", "abigail",
         "emily", "ella", "elizabeth", "camila", "luna", "sofia", "avery", "mila", "aria", "scarlett"]


def build_dataset(words, stoi, block_size):
    X, Y = [], []
    for w in words:
        context = [0] * block_size
        for ch in w + ".":
            ix = stoi[ch]
            X.append(context)
            Y.append(ix)
            context = context[1:] + [ix]
    return torch.tensor(X), torch.tensor(Y)


def test_batchnorm_mlp_trains_and_keeps_running_statistics():
    chars = sorted(set("".join(WORDS)))
    stoi = {s: i + 1 for i, s in enumerate(chars)}
    stoi["."] = 0
    vocab_size = len(stoi)
    block_size, n_embd, n_hidden = 3, 4, 32
    Xtr, Ytr = build_dataset(WORDS, stoi, block_size)

    g = torch.Generator().manual_seed(2147483647)
    C = torch.randn((vocab_size, n_embd), generator=g)
    W1 = torch.randn((n_embd * block_size, n_hidden), generator=g) * (5 / 3) / ((n_embd * block_size) ** 0.5)
    W2 = torch.randn((n_hidden, vocab_size), generator=g) * 0.01
    b2 = torch.randn(vocab_size, generator=g) * 0
    bngain = torch.ones((1, n_hidden))
    bnbias = torch.zeros((1, n_hidden))
    bnmean_running = torch.zeros((1, n_hidden))
    bnstd_running = torch.ones((1, n_hidden))
    parameters = [C, W1, W2, b2, bngain, bnbias]
    for p in parameters:
        p.requires_grad = True

    losses, means, stds = [], [], []
    for i in range(60):
        ix = torch.randint(0, Xtr.shape[0], (32,), generator=g)
        Xb, Yb = Xtr[ix], Ytr[ix]
        emb = C[Xb]
        embcat = emb.view(emb.shape[0], -1)
        hpreact = embcat @ W1
        bnmeani = hpreact.mean(0, keepdim=True)
        bnstdi = hpreact.std(0, keepdim=True)
        hpreact = bngain * (hpreact - bnmeani) / bnstdi + bnbias
        with torch.no_grad():
            bnmean_running = 0.999 * bnmean_running + 0.001 * bnmeani
            bnstd_running = 0.999 * bnstd_running + 0.001 * bnstdi
        means.append(bnmeani.detach().numpy().copy())
        stds.append(bnstdi.detach().numpy().copy())
        h = torch.tanh(hpreact)
        logits = h @ W2 + b2
        loss = F.cross_entropy(logits, Yb)
        for p in parameters:
            p.grad = None
        loss.backward()
        lr = 0.1 if i < 50 else 0.01
        for p in parameters:
            p.data += -lr * p.grad
        losses.append(loss.item())

    assert np.mean(losses[-10:]) < np.mean(losses[:10]) - 0.3
    assert not bnmean_running.requires_grad
    expected_mean = np.zeros((1, n_hidden))
    expected_std = np.ones((1, n_hidden))
    for m, s in zip(means, stds):
        expected_mean = 0.999 * expected_mean + 0.001 * m
        expected_std = 0.999 * expected_std + 0.001 * s
    np.testing.assert_allclose(bnmean_running.numpy(), expected_mean, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(bnstd_running.numpy(), expected_std, rtol=1e-4, atol=1e-6)

    # evaluation with the running statistics: the whole training set at once
    with torch.no_grad():
        hpre = C[Xtr].view(Xtr.shape[0], -1) @ W1
        h = torch.tanh(bngain * (hpre - bnmean_running) / bnstd_running + bnbias)
        assert torch.isfinite(F.cross_entropy(h @ W2 + b2, Ytr)).item()
