"""web3.py against a real `aurum up` chain, with the committed artifacts in contracts/artifacts.

Deploys the OpenZeppelin ERC20 and the Reverter, transfers, reads events, decodes reverts and
custom errors, sends 20 back-to-back transactions with explicit nonces, and reads history.
Transactions are signed locally (eth_account) with gasPrice 0: the chain charges no gas.
Run with `python -m unittest -v` (AURUM_BIN set).
"""

import json
import time
import unittest
from pathlib import Path

import rlp
from eth_abi import decode as abi_decode
from eth_utils import keccak, to_checksum_address
from web3 import Web3
from web3.exceptions import ContractCustomError, ContractLogicError

from aurum_chain import Chain

ARTIFACTS = Path(__file__).resolve().parents[3] / "contracts" / "artifacts"
CHAIN_ID = 20200
SUPPLY = 1_000_000 * 10**18
ZERO = "0x" + "00" * 20
TRANSFER_TOPIC = Web3.to_hex(keccak(text="Transfer(address,address,uint256)"))
APPROVAL_TOPIC = Web3.to_hex(keccak(text="Approval(address,address,uint256)"))
ERROR_STRING = "0x08c379a0"


def selector(signature):
    return Web3.to_hex(keccak(text=signature)[:4])


def pad(addr):
    return "0x" + "00" * 12 + addr[2:].lower()


def hexstr(b):
    return Web3.to_hex(b) if not isinstance(b, str) else b


def create_address(sender, nonce):
    return to_checksum_address(keccak(rlp.encode([bytes.fromhex(sender[2:]), nonce]))[12:])


def load(name):
    art = json.loads((ARTIFACTS / f"{name}.json").read_text())
    return art["abi"], art["bytecode"], art["deployedBytecode"]


def revert_data(err):
    data = err.data
    if isinstance(data, dict):  # some servers nest it
        data = data.get("data")
    return data


class ERC20Test(unittest.TestCase):
    """Test methods are numbered: they run in order against one chain, each on state it made."""

    @classmethod
    def setUpClass(cls):
        cls.chain = Chain.start("py")
        cls.addClassCleanup(cls.chain.stop)
        try:
            cls.w3 = Web3(Web3.HTTPProvider(cls.chain.ready["rpc_url"], request_kwargs={"timeout": 30}))
            cls.acct = cls.w3.eth.account.create()
            cls.addr = cls.acct.address

            abi, bytecode, cls.token_runtime = load("AurumToken")
            Token = cls.w3.eth.contract(abi=abi, bytecode=bytecode)
            cls.deploy_hash = cls.send(Token.constructor("Aurum Token", "AUR", SUPPLY))
            cls.deploy_receipt = cls.wait(cls.deploy_hash)
            cls.token = cls.w3.eth.contract(address=cls.deploy_receipt["contractAddress"], abi=abi)

            abi, bytecode, _ = load("Reverter")
            Reverter = cls.w3.eth.contract(abi=abi, bytecode=bytecode)
            receipt = cls.wait(cls.send(Reverter.constructor()))
            cls.reverter = cls.w3.eth.contract(address=receipt["contractAddress"], abi=abi)
        except BaseException:
            print("setup failed; node log tail:\n" + cls.chain.log_tail())
            raise
        cls.recipient = cls.w3.eth.account.create().address
        cls.amount = 12345 * 10**17
        cls.transfer_receipt = None

    # --- helpers -------------------------------------------------------------------------------

    @classmethod
    def send(cls, call, nonce=None, gas=None):
        """Builds (gasPrice 0, chainId), signs locally and sends; returns the tx hash."""
        if nonce is None:
            nonce = cls.w3.eth.get_transaction_count(cls.addr, "pending")
        params = {"from": cls.addr, "nonce": nonce, "gasPrice": 0, "chainId": CHAIN_ID}
        if gas is not None:
            params["gas"] = gas
        tx = call.build_transaction(params)
        signed = cls.acct.sign_transaction(tx)
        return cls.w3.eth.send_raw_transaction(signed.raw_transaction)

    @classmethod
    def wait(cls, tx_hash, timeout=60):
        return cls.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=timeout, poll_latency=0.1)

    def balance(self, who, block="latest"):
        return self.token.functions.balanceOf(who).call(block_identifier=block)

    def fresh(self):
        return self.w3.eth.account.create().address

    # --- checks --------------------------------------------------------------------------------

    def test_01_chain_identity(self):
        r = self.chain.ready
        self.assertEqual(r["group"], "group0")
        self.assertEqual(r["chain_id"], "chain0")
        self.assertEqual(r["crypto"], "secp256k1")
        self.assertEqual(r["web3_chain_id"], CHAIN_ID)
        self.assertIsInstance(r["pid"], int)
        self.assertTrue(self.w3.is_connected())
        self.assertEqual(self.w3.eth.chain_id, CHAIN_ID)
        self.assertEqual(self.w3.provider.make_request("eth_chainId", [])["result"], hex(CHAIN_ID))
        self.assertEqual(self.w3.eth.gas_price, 0)

    def test_02_deploy_receipt(self):
        r = self.deploy_receipt
        self.assertEqual(r["status"], 1)
        self.assertEqual(r["transactionHash"], self.deploy_hash)
        self.assertGreater(r["blockNumber"], 0)
        self.assertEqual(len(r["blockHash"]), 32)
        self.assertGreater(r["gasUsed"], 0)
        self.assertEqual(r["from"], self.addr)
        self.assertIsNone(r["to"])
        self.assertEqual(r["contractAddress"], create_address(self.addr, 0))
        self.assertEqual(len(r["logs"]), 1)

        (ev,) = self.token.events.Transfer().process_receipt(r)
        self.assertEqual(ev.event, "Transfer")
        self.assertEqual((ev.args["from"], ev.args["to"], ev.args["value"]), (ZERO, self.addr, SUPPLY))
        self.assertEqual(ev.address, self.token.address)
        self.assertEqual(hexstr(r["logs"][0]["topics"][0]), TRANSFER_TOPIC)

        self.assertEqual(hexstr(self.w3.eth.get_code(self.token.address)), self.token_runtime)
        self.assertEqual(self.token.functions.name().call(), "Aurum Token")
        self.assertEqual(self.token.functions.symbol().call(), "AUR")
        self.assertEqual(self.token.functions.decimals().call(), 18)
        self.assertEqual(self.token.functions.totalSupply().call(), SUPPLY)
        self.assertEqual(self.balance(self.addr), SUPPLY)

        tx = self.w3.eth.get_transaction(self.deploy_hash)
        self.assertEqual(tx["from"], self.addr)
        self.assertEqual(tx["nonce"], 0)
        self.assertEqual(tx["blockNumber"], r["blockNumber"])
        self.assertIsNone(tx["to"])

    def test_03_transfer(self):
        cls = type(self)
        before = self.balance(self.addr)
        self.assertEqual(self.balance(self.recipient), 0)
        h = self.send(self.token.functions.transfer(self.recipient, self.amount))
        r = self.wait(h)
        cls.transfer_receipt = r
        self.assertEqual(r["status"], 1)
        self.assertGreater(r["blockNumber"], self.deploy_receipt["blockNumber"])
        self.assertGreater(r["gasUsed"], 0)
        self.assertEqual(r["to"], self.token.address)
        self.assertIsNone(r["contractAddress"])
        self.assertEqual(self.balance(self.addr), before - self.amount)
        self.assertEqual(self.balance(self.recipient), self.amount)
        self.assertEqual(self.token.functions.totalSupply().call(), SUPPLY)
        (ev,) = self.token.events.Transfer().process_receipt(r)
        self.assertEqual((ev.args["from"], ev.args["to"], ev.args["value"]), (self.addr, self.recipient, self.amount))

    def test_04_logs(self):
        self.assertIsNotNone(self.transfer_receipt, "needs test_03")
        D = self.deploy_receipt["blockNumber"]
        T = self.transfer_receipt["blockNumber"]
        tok = self.token.address

        mint = self.w3.eth.get_logs({"address": tok, "topics": [TRANSFER_TOPIC], "fromBlock": D, "toBlock": D})
        self.assertEqual(len(mint), 1)
        self.assertEqual(hexstr(mint[0]["topics"][1]), pad(ZERO))
        self.assertEqual(mint[0]["transactionHash"], self.deploy_hash)
        self.assertEqual(int(hexstr(mint[0]["data"]), 16), SUPPLY)

        by_to = self.w3.eth.get_logs(
            {"address": tok, "topics": [TRANSFER_TOPIC, None, pad(self.recipient)], "fromBlock": T, "toBlock": T}
        )
        self.assertEqual(len(by_to), 1)
        log = by_to[0]
        self.assertEqual(log["address"], tok)
        self.assertEqual(log["blockNumber"], T)
        self.assertEqual(log["blockHash"], self.transfer_receipt["blockHash"])
        self.assertEqual(log["transactionHash"], self.transfer_receipt["transactionHash"])
        self.assertEqual(log["logIndex"], self.transfer_receipt["logs"][0]["logIndex"])
        self.assertEqual(int(hexstr(log["data"]), 16), self.amount)

        by_sender = self.w3.eth.get_logs(
            {"address": tok, "topics": [TRANSFER_TOPIC, pad(self.addr)], "fromBlock": D, "toBlock": T}
        )
        self.assertEqual([x["transactionHash"] for x in by_sender], [self.transfer_receipt["transactionHash"]])

        early = self.w3.eth.get_logs(
            {"address": tok, "topics": [TRANSFER_TOPIC, None, pad(self.recipient)], "fromBlock": D, "toBlock": T - 1}
        )
        self.assertEqual(early, [])

        any_of = self.w3.eth.get_logs(
            {"address": tok, "topics": [[TRANSFER_TOPIC, APPROVAL_TOPIC]], "fromBlock": 0, "toBlock": "latest"}
        )
        self.assertEqual(
            [x["transactionHash"] for x in any_of],
            [self.deploy_hash, self.transfer_receipt["transactionHash"]],
        )
        self.assertEqual(self.w3.eth.get_logs({"address": self.fresh(), "fromBlock": D, "toBlock": T}), [])

        # the contract's event API
        evs = self.token.events.Transfer.get_logs(from_block=D, to_block=T)
        self.assertEqual([(e.args["from"], e.args["to"]) for e in evs], [(ZERO, self.addr), (self.addr, self.recipient)])
        evs = self.token.events.Transfer.get_logs(
            from_block=D, to_block="latest", argument_filters={"to": self.recipient}
        )
        self.assertEqual(len(evs), 1)
        self.assertEqual(evs[0].args["value"], self.amount)
        self.assertEqual(evs[0].blockNumber, T)

    def test_05_revert_reason(self):
        with self.assertRaises(ContractLogicError) as cm:
            self.reverter.functions.failRequire(1).call()
        err = cm.exception
        self.assertNotIsInstance(err, ContractCustomError)
        # web3.py passes the node's message through: geth's is "execution reverted: <reason>"
        self.assertEqual(err.message, "execution reverted: x must exceed 10")
        data = revert_data(err)
        self.assertTrue(data.startswith(ERROR_STRING), data)
        (reason,) = abi_decode(["string"], bytes.fromhex(data[10:]))
        self.assertEqual(reason, "x must exceed 10")
        self.assertEqual(self.reverter.functions.failRequire(11).call(), 11)

        # eth_estimateGas (building a transaction) refuses it the same way
        with self.assertRaises(ContractLogicError) as cm:
            self.reverter.functions.failRequire(1).estimate_gas({"from": self.addr})
        self.assertEqual(cm.exception.message, "execution reverted: x must exceed 10")

    def test_06_custom_error(self):
        with self.assertRaises(ContractCustomError) as cm:
            self.reverter.functions.failCustom(1, 2).call()
        data = revert_data(cm.exception)
        sel = selector("Insufficient(uint256,uint256)")
        self.assertTrue(data.startswith(sel), f"{data} does not start with {sel}")
        self.assertEqual(abi_decode(["uint256", "uint256"], bytes.fromhex(data[10:])), (1, 2))

    def test_07_transfer_above_balance(self):
        bal = self.balance(self.addr)
        want = bal + 1
        sel = selector("ERC20InsufficientBalance(address,uint256,uint256)")
        with self.assertRaises(ContractCustomError) as cm:
            self.token.functions.transfer(self.recipient, want).call({"from": self.addr})
        data = revert_data(cm.exception)
        self.assertTrue(data.startswith(sel), f"{data} does not start with {sel}")
        sender, have, need = abi_decode(["address", "uint256", "uint256"], bytes.fromhex(data[10:]))
        self.assertEqual((to_checksum_address(sender), have, need), (self.addr, bal, want))

        # building the transaction estimates gas, which refuses it with the same data
        with self.assertRaises(ContractCustomError) as cm:
            self.send(self.token.functions.transfer(self.recipient, want))
        self.assertTrue(revert_data(cm.exception).startswith(sel))

        # forced into a block with a fixed gas limit: mined with status 0, nothing moves
        nonce = self.w3.eth.get_transaction_count(self.addr, "pending")
        r = self.wait(self.send(self.token.functions.transfer(self.recipient, want), nonce=nonce, gas=200_000))
        self.assertEqual(r["status"], 0)
        self.assertEqual(r["logs"], [])
        self.assertEqual(self.balance(self.addr), bal)
        self.assertEqual(self.w3.eth.get_transaction_count(self.addr, "latest"), nonce + 1)

    def test_08_back_to_back_20(self):
        start = self.w3.eth.get_transaction_count(self.addr, "pending")
        before = self.balance(self.addr)
        to = [self.fresh() for _ in range(20)]
        gas = self.token.functions.transfer(to[0], 1000).estimate_gas({"from": self.addr}) * 2
        hashes = [
            self.send(self.token.functions.transfer(to[i], 1000 + i), nonce=start + i, gas=gas) for i in range(20)
        ]
        self.assertEqual(len(set(hashes)), 20)
        self.assertEqual(self.w3.eth.get_transaction_count(self.addr, "pending"), start + 20)
        receipts = [self.wait(h, timeout=120) for h in hashes]
        for r in receipts:
            self.assertEqual(r["status"], 1)
        for i in range(20):
            self.assertEqual(self.balance(to[i]), 1000 + i)
        self.assertEqual(self.balance(self.addr), before - sum(1000 + i for i in range(20)))
        self.assertEqual(self.w3.eth.get_transaction_count(self.addr, "latest"), start + 20)
        nonces = [self.w3.eth.get_transaction(h)["nonce"] for h in hashes]
        self.assertEqual(nonces, list(range(start, start + 20)))

    def test_09_polling_filter(self):
        target = self.fresh()
        flt = self.token.events.Transfer.create_filter(
            from_block=self.w3.eth.block_number, argument_filters={"to": target}
        )
        try:
            r = self.wait(self.send(self.token.functions.transfer(target, 7)))
            seen = []
            deadline = time.monotonic() + 15
            while not seen and time.monotonic() < deadline:
                seen = flt.get_new_entries()
                if not seen:
                    time.sleep(0.2)
            self.assertEqual(len(seen), 1, "no Transfer event through eth_getFilterChanges")
            self.assertEqual(seen[0].args["value"], 7)
            self.assertEqual(seen[0].transactionHash, r["transactionHash"])
            self.assertEqual(flt.get_new_entries(), [])
            self.assertEqual(len(flt.get_all_entries()), 1)
        finally:
            self.w3.eth.uninstall_filter(flt.filter_id)

    def test_10_block_with_full_transactions(self):
        self.assertIsNotNone(self.transfer_receipt, "needs test_03")
        r = self.transfer_receipt
        block = self.w3.eth.get_block(r["blockNumber"], full_transactions=True)
        self.assertEqual(block["hash"], r["blockHash"])
        self.assertEqual(block["number"], r["blockNumber"])
        self.assertEqual(block["baseFeePerGas"], 0)
        txs = [t for t in block["transactions"] if t["hash"] == r["transactionHash"]]
        self.assertEqual(len(txs), 1, block["transactions"])
        tx = txs[0]
        self.assertEqual(tx["from"], self.addr)
        self.assertEqual(tx["to"], self.token.address)
        self.assertEqual(tx["blockHash"], r["blockHash"])
        self.assertEqual(tx["transactionIndex"], r["transactionIndex"])
        self.assertEqual(hexstr(tx["input"])[:10], selector("transfer(address,uint256)"))
        light = self.w3.eth.get_block(r["blockHash"])
        self.assertIn(r["transactionHash"], light["transactions"])

    def test_11_call_at_earlier_block(self):
        self.assertIsNotNone(self.transfer_receipt, "needs test_03")
        D = self.deploy_receipt["blockNumber"]
        now = self.balance(self.addr)
        self.assertLess(now, SUPPLY)
        self.assertEqual(self.balance(self.addr, D), SUPPLY)
        self.assertEqual(self.balance(self.recipient, D), 0)
        self.assertEqual(self.balance(self.recipient, self.transfer_receipt["blockNumber"]), self.amount)
        for tag in ("latest", "pending", "safe", "finalized"):
            self.assertEqual(self.balance(self.addr, tag), now, tag)
        self.assertEqual(hexstr(self.w3.eth.get_code(self.token.address, D - 1)), "0x")

    def test_99_stops_cleanly_on_sigterm(self):
        node_pid = self.chain.ready["pid"]
        res = self.chain.stop()
        self.assertFalse(res["killed"], f"aurum up ignored SIGTERM for the grace period: {res}")
        self.assertEqual(res["returncode"], 0, res)
        self.assertTrue(res["node_gone"], f"node process {node_pid} outlived aurum up")


if __name__ == "__main__":
    unittest.main(verbosity=2)
