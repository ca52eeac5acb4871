import Foundation
import EventModel

/// Every event type the demo's order-fulfillment saga produces.
public enum DemoEventType: String, Sendable, CaseIterable, Hashable {
    case orderPlaced = "OrderPlaced"
    case paymentAuthorized = "PaymentAuthorized"
    case paymentDeclined = "PaymentDeclined"
    case inventoryReserved = "InventoryReserved"
    case outOfStock = "OutOfStock"
    case orderShipped = "OrderShipped"
    case shipmentFailed = "ShipmentFailed"
    case paymentRefunded = "PaymentRefunded"
    case inventoryReleased = "InventoryReleased"
    case orderCancelled = "OrderCancelled"

    /// The topic the event is published on.
    public var topic: String {
        switch self {
        case .orderPlaced, .orderCancelled: return DemoTopics.orders
        case .paymentAuthorized, .paymentDeclined, .paymentRefunded: return DemoTopics.payments
        case .inventoryReserved, .outOfStock, .inventoryReleased: return DemoTopics.inventory
        case .orderShipped, .shipmentFailed: return DemoTopics.shipments
        }
    }

    /// The payload schema version written for the event.
    public var schemaVersion: Int {
        switch self {
        case .orderPlaced, .paymentAuthorized: return 2
        default: return 1
        }
    }
}

/// Topic names and layout of the demo.
public enum DemoTopics {
    /// Orders: OrderPlaced, OrderCancelled.
    public static let orders = "orders"
    /// Payments: PaymentAuthorized, PaymentDeclined, PaymentRefunded.
    public static let payments = "payments"
    /// Inventory: InventoryReserved, OutOfStock, InventoryReleased.
    public static let inventory = "inventory"
    /// Shipments: OrderShipped, ShipmentFailed.
    public static let shipments = "shipments"
    /// Dead letters of `orders` (poison OrderPlaced failing in payment-service).
    public static let ordersDLT = "orders.DLT"
    /// Dead letters of `payments` (poison PaymentAuthorized failing in inventory-service).
    public static let paymentsDLT = "payments.DLT"

    /// Every topic with its partition count, in creation order.
    public static let layout: [(name: String, partitions: Int32)] = [
        (orders, 3), (payments, 3), (inventory, 3), (shipments, 1), (ordersDLT, 1), (paymentsDLT, 1),
    ]
}

/// Consumer group ids of the demo's services.
public enum DemoGroups {
    /// Places orders; consumes payments and shipments; cancels.
    public static let orderService = "order-service"
    /// Authorizes and refunds; consumes orders and inventory.
    public static let paymentService = "payment-service"
    /// Reserves and releases stock; consumes payments and shipments; stalls now and then.
    public static let inventoryService = "inventory-service"
    /// Ships; consumes inventory; slower than peak traffic.
    public static let shippingService = "shipping-service"

    /// All groups in processing order.
    public static let all = [orderService, paymentService, inventoryService, shippingService]
}

/// The fields a consumer reads from an event payload (all optional: payloads are untrusted).
struct EventEnvelope: Decodable, Sendable {
    var eventType: String?
    var eventId: String?
    var schemaVersion: Int?
    var correlationId: String?
    var orderId: String?
    var customerId: String?
    var amount: Double?
    var currency: String?
    var sku: String?
    var quantity: Int?
    var paymentId: String?
    var reservationId: String?
    var warehouse: String?
    /// `warehouse` as InventoryReserved schema-version 2 names it (the `schema-drift` fault).
    var warehouseCode: String?
    var carrier: String?
    var reason: String?

    var amountCents: Int64? { amount.map { Int64(($0 * 100).rounded()) } }
}

/// Header names the demo writes on every event.
enum DemoHeaders {
    static let correlationID = "correlation-id"
    static let eventType = "event-type"
    static let eventID = "event-id"
    static let schemaVersion = "schema-version"
    static let contentType = "content-type"
}
