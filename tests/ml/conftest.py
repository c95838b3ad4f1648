import pytest
import torch


@pytest.fixture(autouse=True)
def one_torch_thread():
    # One intra-op thread for every test (some code under test raises it): the machine is shared, and
    # oneDNN/OpenMP with 2 threads on a busy 2-core box spends most of its time spinning (measured
    # 4-6x slower than 1 thread under load).
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
